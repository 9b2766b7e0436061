// Single-port synchronous RAM, read-first: a read in the same cycle as a write to the same address
// returns the old contents. Registered read data (1-cycle latency), maps onto FPGA block RAM.
module ram_sp #(
    parameter integer WIDTH = 16,
    parameter integer DEPTH = 64,
    parameter integer AW    = 6       // $clog2(DEPTH)
) (
    input  wire             clk,
    input  wire             en,
    input  wire             we,
    input  wire [AW-1:0]    addr,
    input  wire [WIDTH-1:0] wdata,
    output reg  [WIDTH-1:0] rdata
);
    reg [WIDTH-1:0] mem [0:DEPTH-1];

    always @(posedge clk) begin
        if (en) begin
            if (we)
                mem[addr] <= wdata;
            rdata <= mem[addr];      // old value: non-blocking write lands after this read
        end
    end
endmodule
