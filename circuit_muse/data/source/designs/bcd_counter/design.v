// Two-digit BCD counter 00..99 with enable and a carry pulse on the 99 -> 00 roll-over.
module bcd_counter (
    input  wire       clk,
    input  wire       rst,        // synchronous, active high
    input  wire       en,
    output reg  [3:0] ones,
    output reg  [3:0] tens,
    output wire       carry       // 1 while en = 1 and the count is 99 (roll-over at the next edge)
);
    wire ones_wrap = (ones == 4'd9);
    wire tens_wrap = (tens == 4'd9);

    assign carry = en && ones_wrap && tens_wrap;

    always @(posedge clk) begin
        if (rst) begin
            ones <= 4'd0;
            tens <= 4'd0;
        end else if (en) begin
            if (ones_wrap) begin
                ones <= 4'd0;
                tens <= tens_wrap ? 4'd0 : tens + 4'd1;
            end else begin
                ones <= ones + 4'd1;
            end
        end
    end
endmodule
