// Register file: DEPTH x WIDTH, one synchronous write port, two asynchronous read ports.
// Register 0 reads as zero and ignores writes (RISC-style x0). Write-then-read in the same cycle returns
// the old value (no internal bypass).
module register_file #(
    parameter integer WIDTH = 32,
    parameter integer DEPTH = 8,
    parameter integer AW    = 3       // $clog2(DEPTH)
) (
    input  wire             clk,
    input  wire             rst_n,    // synchronous, active low: clears all registers
    input  wire             we,
    input  wire [AW-1:0]    waddr,
    input  wire [WIDTH-1:0] wdata,
    input  wire [AW-1:0]    raddr_a,
    output wire [WIDTH-1:0] rdata_a,
    input  wire [AW-1:0]    raddr_b,
    output wire [WIDTH-1:0] rdata_b
);
    reg [WIDTH-1:0] regs [0:DEPTH-1];
    integer i;

    always @(posedge clk) begin
        if (!rst_n) begin
            for (i = 0; i < DEPTH; i = i + 1)
                regs[i] <= {WIDTH{1'b0}};
        end else if (we && (waddr != {AW{1'b0}})) begin
            regs[waddr] <= wdata;
        end
    end

    assign rdata_a = (raddr_a == {AW{1'b0}}) ? {WIDTH{1'b0}} : regs[raddr_a];
    assign rdata_b = (raddr_b == {AW{1'b0}}) ? {WIDTH{1'b0}} : regs[raddr_b];
endmodule
