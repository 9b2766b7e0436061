module ram_sp #(
    parameter WIDTH = 16,
    parameter DEPTH = 64,
    parameter AW = 6
) (
    input clk, en, we,
    input [AW-1:0] addr,
    input [WIDTH-1:0] wdata,
    output reg [WIDTH-1:0] rdata
);
    reg [WIDTH-1:0] m [0:DEPTH-1];
    reg [WIDTH-1:0] old;
    always @(posedge clk)
        if (en) begin
            old = m[addr];
            if (we) m[addr] = wdata;
            rdata <= old;
        end
endmodule
