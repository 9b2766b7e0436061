// Magnitude comparator for unsigned or two's-complement operands (is_signed selects).
// Exactly one of lt / eq / gt is 1.
module mag_comparator #(
    parameter integer WIDTH = 8
) (
    input  wire [WIDTH-1:0] a,
    input  wire [WIDTH-1:0] b,
    input  wire             is_signed,
    output wire             lt,
    output wire             eq,
    output wire             gt
);
    wire signed_lt   = $signed(a) < $signed(b);
    wire unsigned_lt = a < b;

    assign eq = (a == b);
    assign lt = is_signed ? signed_lt : unsigned_lt;
    assign gt = !eq && !lt;
endmodule
