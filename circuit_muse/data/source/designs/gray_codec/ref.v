module gray_codec #(
    parameter WIDTH = 4
) (
    input  [WIDTH-1:0] bin_in,
    output reg [WIDTH-1:0] gray_out,
    input  [WIDTH-1:0] gray_in,
    output reg [WIDTH-1:0] bin_out
);
    integer i;
    always @* begin
        for (i = 0; i < WIDTH; i = i + 1) begin
            gray_out[i] = (i == WIDTH - 1) ? bin_in[i] : (bin_in[i] ^ bin_in[i+1]);
            bin_out[i] = ^(gray_in >> i);
        end
    end
endmodule
