// Binary <-> Gray code converters (both directions, combinational).
module gray_codec #(
    parameter integer WIDTH = 4
) (
    input  wire [WIDTH-1:0] bin_in,
    output wire [WIDTH-1:0] gray_out,
    input  wire [WIDTH-1:0] gray_in,
    output reg  [WIDTH-1:0] bin_out
);
    integer i;

    // Each Gray bit is the XOR of two neighbouring binary bits.
    assign gray_out = bin_in ^ (bin_in >> 1);

    // Each binary bit is the XOR of all Gray bits at or above it (prefix XOR from the MSB down).
    always @* begin
        bin_out[WIDTH-1] = gray_in[WIDTH-1];
        for (i = WIDTH - 2; i >= 0; i = i - 1)
            bin_out[i] = bin_out[i+1] ^ gray_in[i];
    end
endmodule
