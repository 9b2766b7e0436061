module piso_shift #(
    parameter WIDTH = 8
) (
    input clk, rst_n, load, shift_en,
    input [WIDTH-1:0] data_in,
    output sout
);
    reg [WIDTH-1:0] r;
    always @(posedge clk)
        r <= !rst_n ? 0 : load ? data_in : shift_en ? r << 1 : r;
    assign sout = r[WIDTH-1];
endmodule
