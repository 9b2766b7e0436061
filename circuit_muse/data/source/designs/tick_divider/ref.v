module tick_divider #(
    parameter DIV = 10,
    parameter CW = 4
) (
    input clk, rst, en,
    output reg tick
);
    integer c;
    always @(posedge clk) begin
        if (rst) begin
            c = 0; tick <= 0;
        end else begin
            tick <= 0;
            if (en) begin
                c = c + 1;
                if (c == DIV) begin c = 0; tick <= 1; end
            end
        end
    end
endmodule
