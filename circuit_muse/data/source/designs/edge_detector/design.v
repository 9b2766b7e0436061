// Synchronous edge detector for a signal already in the clk domain.
// rise / fall / any pulse for one cycle after the input changes (detected at the sampling edge).
module edge_detector (
    input  wire clk,
    input  wire rst_n,      // asynchronous, active low
    input  wire sig_in,
    output wire rise,
    output wire fall,
    output wire any_edge
);
    reg sig_d;   // sig_in one cycle ago
    reg sig_q;   // current registered sample

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            sig_q <= 1'b0;
            sig_d <= 1'b0;
        end else begin
            sig_q <= sig_in;
            sig_d <= sig_q;
        end
    end

    assign rise     =  sig_q & ~sig_d;
    assign fall     = ~sig_q &  sig_d;
    assign any_edge =  sig_q ^  sig_d;
endmodule
