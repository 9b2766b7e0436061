// Reset synchronizer: asynchronous assertion, synchronous de-assertion.
// rst_n_sync goes low as soon as arst_n goes low (no clock needed) and goes high only STAGES rising
// edges of clk after arst_n is released, so de-assertion is synchronous to clk.
module reset_sync #(
    parameter integer STAGES = 2
) (
    input  wire clk,
    input  wire arst_n,        // asynchronous, active-low reset request
    output wire rst_n_sync     // reset for the clk domain
);
    (* ASYNC_REG = "TRUE" *) reg [STAGES-1:0] sync_q;

    always @(posedge clk or negedge arst_n) begin
        if (!arst_n)
            sync_q <= {STAGES{1'b0}};
        else
            sync_q <= {sync_q[STAGES-2:0], 1'b1};
    end

    assign rst_n_sync = sync_q[STAGES-1];
endmodule
