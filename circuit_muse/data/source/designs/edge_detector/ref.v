module edge_detector (
    input clk, rst_n, sig_in,
    output reg rise, fall, any_edge
);
    reg [1:0] h;
    always @(posedge clk or negedge rst_n)
        if (!rst_n) h <= 2'b00;
        else h <= {h[0], sig_in};
    always @* begin
        rise = (h == 2'b01);
        fall = (h == 2'b10);
        any_edge = rise | fall;
    end
endmodule
