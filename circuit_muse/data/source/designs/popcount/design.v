// Population count: the number of ones in the input vector.
module popcount #(
    parameter integer WIDTH = 8,
    parameter integer CW    = 4      // $clog2(WIDTH+1)
) (
    input  wire [WIDTH-1:0] data,
    output reg  [CW-1:0]    ones
);
    integer i;

    always @* begin
        ones = {CW{1'b0}};
        for (i = 0; i < WIDTH; i = i + 1)
            ones = ones + {{(CW-1){1'b0}}, data[i]};
    end
endmodule
