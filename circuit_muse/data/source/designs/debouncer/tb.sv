// Self-checking bench: presses and releases with bursts of bounce shorter than STABLE, plus clean
// holds. A cycle-level model of the specified algorithm gives the expected btn_out and rise.
`timescale 1ns/1ps
module tb;
    localparam integer STABLE = 16;
    reg clk = 1'b0, rst_n = 1'b0, btn_in = 1'b0;
    wire btn_out, rise;
    integer cyc, pass = 0, fail = 0, seed = 9, phase = 0, left = 0, cnt = 0, rises = 0;
    reg s0 = 0, s1 = 0, m_out = 0, m_rise = 0, level = 0;

    debouncer dut (.clk(clk), .rst_n(rst_n), .btn_in(btn_in), .btn_out(btn_out), .rise(rise));

    always #5 clk = ~clk;

    initial begin
        for (cyc = 0; cyc < 6000; cyc = cyc + 1) begin
            @(negedge clk);
            if (cyc == 3) rst_n = 1'b1;
            // stimulus: alternate a bouncing transition phase and a stable phase
            if (left == 0) begin
                phase = !phase;
                if (phase) begin left = 4 + ($random(seed) & 15); level = !level; end
                else left = ($random(seed) & 1) ? STABLE / 2 + ($random(seed) & 7) : 2 * STABLE + ($random(seed) & 31);
            end
            left = left - 1;
            btn_in = phase ? (($random(seed) & 1) ? level : !level) : level;
            #1;
            if (rst_n) begin
                if (btn_out === m_out && rise === m_rise) pass = pass + 1;
                else begin
                    fail = fail + 1;
                    if (fail <= 5) $display("CM_MISMATCH cycle=%0d signal=btn_out/rise exp=%b%b got=%b%b", cyc, m_out, m_rise, btn_out, rise);
                end
            end
            @(posedge clk);
            // model of the specified behaviour, evaluated with the values sampled at this edge
            if (!rst_n) begin
                s0 = 0; s1 = 0; cnt = 0; m_out = 0; m_rise = 0;
            end else begin
                m_rise = 0;
                if (s1 == m_out) cnt = 0;
                else if (cnt == STABLE - 1) begin cnt = 0; m_out = s1; m_rise = s1; rises = rises + s1; end
                else cnt = cnt + 1;
                s1 = s0; s0 = btn_in;
            end
        end
        if (rises < 10) begin fail = fail + 1; $display("CM_MISMATCH signal=rise exp=>=10 got=%0d (bench too weak)", rises); end
        $display("CM_RESULT pass=%0d fail=%0d", pass, fail);
        $finish;
    end
endmodule
