module alu #(
    parameter WIDTH = 8,
    parameter SH = 3
) (
    input  [WIDTH-1:0] a,
    input  [WIDTH-1:0] b,
    input  [2:0] op,
    output reg [WIDTH-1:0] y,
    output reg carry,
    output zero
);
    reg [WIDTH-1:0] t;
    integer n, i;
    always @* begin
        carry = 0;
        y = 0;
        n = b % (1 << SH);
        if (op == 0) begin
            y = a + b;
            carry = ({1'b0, a} + {1'b0, b}) >> WIDTH;
        end else if (op == 1) begin
            y = a - b;
            carry = a < b;
        end else if (op == 2) y = a & b;
        else if (op == 3) y = a | b;
        else if (op == 4) y = a ^ b;
        else if (op == 5) begin
            // signed compare by hand: different signs -> the negative one is smaller
            if (a[WIDTH-1] != b[WIDTH-1]) y = a[WIDTH-1];
            else y = (a < b);
        end else begin
            t = a;
            for (i = 0; i < n; i = i + 1)
                t = (op == 6) ? {t[WIDTH-2:0], 1'b0} : {1'b0, t[WIDTH-1:1]};
            y = t;
        end
    end
    assign zero = ~|y;
endmodule
