module lfsr #(
    parameter WIDTH = 8,
    parameter [WIDTH-1:0] TAPS = 8'hB8,
    parameter [WIDTH-1:0] SEED = 0
) (
    input clk, rst, en,
    output reg [WIDTH-1:0] state
);
    integer i;
    reg fb;
    always @(posedge clk) begin
        if (rst) state <= SEED;
        else if (en) begin
            fb = 1'b1;
            for (i = 0; i < WIDTH; i = i + 1)
                if (TAPS[i]) fb = fb ^ state[i];
            state <= (state << 1) | fb;
        end
    end
endmodule
