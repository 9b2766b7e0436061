module bcd_counter (
    input clk, rst, en,
    output [3:0] ones, tens,
    output carry
);
    integer v;
    always @(posedge clk)
        if (rst) v <= 0;
        else if (en) v <= (v + 1) % 100;
    assign ones = v % 10;
    assign tens = v / 10;
    assign carry = en && (v == 99);
endmodule
