module gray_counter #(
    parameter WIDTH = 4
) (
    input clk, rst_n, inc,
    output [WIDTH-1:0] gray
);
    reg [WIDTH-1:0] n;
    always @(posedge clk or negedge rst_n)
        if (!rst_n) n <= 0;
        else if (inc) n <= n + 1;
    assign gray = n ^ (n >> 1);
endmodule
