// Clock-enable generator: tick is high for one clk cycle every DIV cycles (a divided "clock" that
// stays in the clk domain, instead of a generated clock).
module tick_divider #(
    parameter integer DIV = 10,
    parameter integer CW  = 4        // $clog2(DIV)
) (
    input  wire clk,
    input  wire rst,     // synchronous, active high
    input  wire en,
    output reg  tick
);
    localparam [CW-1:0] LAST = DIV[CW-1:0] - 1'b1;

    reg [CW-1:0] cnt;

    always @(posedge clk) begin
        if (rst) begin
            cnt  <= {CW{1'b0}};
            tick <= 1'b0;
        end else begin
            tick <= 1'b0;
            if (en) begin
                if (cnt == LAST) begin
                    cnt  <= {CW{1'b0}};
                    tick <= 1'b1;
                end else begin
                    cnt <= cnt + 1'b1;
                end
            end
        end
    end
endmodule
