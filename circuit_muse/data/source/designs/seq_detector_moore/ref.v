module seq_detector_moore (
    input clk, rst_n, din,
    output detect
);
    // history of the last four bits and how many valid bits it holds since reset
    reg [3:0] h;
    reg [2:0] n;
    always @(posedge clk)
        if (!rst_n) begin h <= 0; n <= 0; end
        else begin h <= {h[2:0], din}; n <= (n == 4) ? 4 : n + 1; end
    assign detect = (n == 4) && (h == 4'b1011);
endmodule
