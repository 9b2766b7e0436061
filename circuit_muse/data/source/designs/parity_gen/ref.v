module parity_gen #(
    parameter WIDTH = 8,
    parameter ODD = 0
) (
    input  [WIDTH-1:0] data,
    output reg parity
);
    integer i, ones;
    always @* begin
        ones = 0;
        for (i = 0; i < WIDTH; i = i + 1)
            ones = ones + data[i];
        parity = (ones % 2 == 1) ? (ODD == 0) : (ODD != 0);
    end
endmodule
