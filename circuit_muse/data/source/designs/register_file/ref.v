module register_file #(
    parameter WIDTH = 32,
    parameter DEPTH = 8,
    parameter AW = 3
) (
    input clk, rst_n, we,
    input [AW-1:0] waddr,
    input [WIDTH-1:0] wdata,
    input [AW-1:0] raddr_a,
    output [WIDTH-1:0] rdata_a,
    input [AW-1:0] raddr_b,
    output [WIDTH-1:0] rdata_b
);
    reg [WIDTH*DEPTH-1:0] flat;
    integer k;
    always @(posedge clk)
        if (!rst_n) flat <= 0;
        else if (we)
            for (k = 1; k < DEPTH; k = k + 1)
                if (waddr == k) flat[k*WIDTH +: WIDTH] <= wdata;
    assign rdata_a = flat[raddr_a*WIDTH +: WIDTH];
    assign rdata_b = flat[raddr_b*WIDTH +: WIDTH];
endmodule
