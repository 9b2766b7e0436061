module mag_comparator #(
    parameter WIDTH = 8
) (
    input  [WIDTH-1:0] a, b,
    input  is_signed,
    output lt, eq, gt
);
    // Flipping the sign bit maps two's complement order onto unsigned order.
    wire [WIDTH-1:0] ka = is_signed ? (a ^ (1 << (WIDTH-1))) : a;
    wire [WIDTH-1:0] kb = is_signed ? (b ^ (1 << (WIDTH-1))) : b;
    assign lt = ka < kb;
    assign gt = ka > kb;
    assign eq = ka == kb;
endmodule
