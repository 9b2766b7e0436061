// Watchdog timer: counts enabled cycles since the last kick; when TIMEOUT cycles pass without a kick it
// raises bark (sticky until reset or kick).
module watchdog #(
    parameter integer TIMEOUT = 20,
    parameter integer CW      = 5         // $clog2(TIMEOUT+1)
) (
    input  wire clk,
    input  wire rst_n,     // synchronous, active low
    input  wire enable,
    input  wire kick,
    output reg  bark
);
    localparam [CW-1:0] LIMIT = TIMEOUT[CW-1:0];

    reg [CW-1:0] count;

    always @(posedge clk) begin
        if (!rst_n || !enable || kick) begin
            count <= {CW{1'b0}};
            bark  <= 1'b0;
        end else if (count == LIMIT - 1'b1) begin
            bark  <= 1'b1;                // timeout reached; hold the count
        end else begin
            count <= count + 1'b1;
        end
    end
endmodule
