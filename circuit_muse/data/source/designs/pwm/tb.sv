// Self-checking bench: random duty values changed at random times (mid-period too), rare resets.
// A cycle model of the specified PWM gives the expected registered output every cycle.
`timescale 1ns/1ps
module tb;
    localparam integer WIDTH = 8;
    localparam integer PERIOD = 1 << WIDTH;
    reg clk = 1'b0, rst_n = 1'b0;
    reg [WIDTH-1:0] duty = 0;
    wire pwm_out;
    integer cyc, pass = 0, fail = 0, seed = 41, cnt = 0, held = 0, highs = 0;
    reg exp_out = 1'b0;

    pwm dut (.clk(clk), .rst_n(rst_n), .duty(duty), .pwm_out(pwm_out));

    always #5 clk = ~clk;

    initial begin
        for (cyc = 0; cyc < 12 * PERIOD + 200; cyc = cyc + 1) begin
            @(negedge clk);
            rst_n = (cyc >= 2) && (cyc != 5 * PERIOD + 17);
            if (($random(seed) & 63) == 0) duty = $random(seed);        // changes at random points
            if (cyc % (3 * PERIOD) == 7) duty = 0;
            if (cyc % (3 * PERIOD) == PERIOD + 7) duty = {WIDTH{1'b1}};
            #1;
            if (cyc >= 2) begin
                if (pwm_out === exp_out) pass = pass + 1;
                else begin
                    fail = fail + 1;
                    if (fail <= 5) $display("CM_MISMATCH cycle=%0d signal=pwm_out exp=%b got=%b", cyc, exp_out, pwm_out);
                end
            end
            highs = highs + exp_out;
            @(posedge clk);
            if (!rst_n) begin
                cnt = 0; held = 0; exp_out = 0;
            end else begin
                if (cnt == PERIOD - 1) held = duty;
                cnt = (cnt + 1) % PERIOD;
                exp_out = (cnt < held);
            end
        end
        if (highs < PERIOD) begin fail = fail + 1; $display("CM_MISMATCH signal=pwm_out exp=activity got=%0d high cycles", highs); end
        $display("CM_RESULT pass=%0d fail=%0d", pass, fail);
        $finish;
    end
endmodule
