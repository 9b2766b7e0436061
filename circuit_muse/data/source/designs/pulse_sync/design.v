// Toggle pulse synchronizer: carries single-cycle pulses from src_clk to dst_clk.
// Each src pulse flips a toggle flop; the toggle is synchronized with two flops in the destination
// domain and an edge detector turns every change back into a one-cycle pulse.
// Pulses must be spaced at least 3 destination clock cycles apart.
module pulse_sync (
    input  wire src_clk,
    input  wire src_rst_n,
    input  wire src_pulse,
    input  wire dst_clk,
    input  wire dst_rst_n,
    output wire dst_pulse
);
    reg src_toggle;

    always @(posedge src_clk or negedge src_rst_n) begin
        if (!src_rst_n)
            src_toggle <= 1'b0;
        else if (src_pulse)
            src_toggle <= ~src_toggle;
    end

    (* ASYNC_REG = "TRUE" *) reg [1:0] dst_sync;
    reg dst_toggle_d;

    always @(posedge dst_clk or negedge dst_rst_n) begin
        if (!dst_rst_n) begin
            dst_sync     <= 2'b00;
            dst_toggle_d <= 1'b0;
        end else begin
            dst_sync     <= {dst_sync[0], src_toggle};
            dst_toggle_d <= dst_sync[1];
        end
    end

    assign dst_pulse = dst_sync[1] ^ dst_toggle_d;
endmodule
