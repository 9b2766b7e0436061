module johnson_counter #(
    parameter WIDTH = 4
) (
    input clk, rst, en,
    output reg [WIDTH-1:0] q
);
    // state index 0..2W-1: first W steps fill ones from the bottom, next W steps fill zeros
    integer s, i;
    always @(posedge clk or posedge rst)
        if (rst) s <= 0;
        else if (en) s <= (s + 1) % (2 * WIDTH);
    always @* begin
        for (i = 0; i < WIDTH; i = i + 1)
            q[i] = (s <= WIDTH) ? (i < s) : (i >= s - WIDTH);
    end
endmodule
