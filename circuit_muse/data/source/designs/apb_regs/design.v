// APB3 slave with N_REGS 32-bit control/status registers at byte offsets 4*i.
// Zero wait states (PREADY = 1); reads of unmapped offsets return 0 with PSLVERR = 1, writes are ignored
// with PSLVERR = 1. Register 0 is read-only and returns the constant ID.
module apb_regs #(
    parameter integer N_REGS = 5,
    parameter integer AW     = 5,            // byte address width, 2 + $clog2(N_REGS)
    parameter [31:0]  ID     = 32'hC0DE_0001
) (
    input  wire          pclk,
    input  wire          presetn,
    input  wire          psel,
    input  wire          penable,
    input  wire          pwrite,
    input  wire [AW-1:0] paddr,
    input  wire [31:0]   pwdata,
    output reg  [31:0]   prdata,
    output wire          pready,
    output wire          pslverr
);
    reg  [31:0]   regs [1:N_REGS-1];
    wire [AW-3:0] idx    = paddr[AW-1:2];
    wire          mapped = ({{(34-AW){1'b0}}, idx} < N_REGS);
    wire          access = psel && penable;
    integer i;

    assign pready  = 1'b1;
    assign pslverr = access && !mapped;

    always @(posedge pclk) begin
        if (!presetn) begin
            for (i = 1; i < N_REGS; i = i + 1)
                regs[i] <= 32'd0;
        end else if (access && pwrite && mapped && idx != {(AW-2){1'b0}}) begin
            regs[idx] <= pwdata;
        end
    end

    always @* begin
        if (!mapped)
            prdata = 32'd0;
        else if (idx == {(AW-2){1'b0}})
            prdata = ID;
        else
            prdata = regs[idx];
    end
endmodule
