// Self-checking bench: unrelated source and destination clocks, randomly spaced source pulses.
// Every source pulse must produce exactly one single-cycle destination pulse within 4 destination cycles.
`timescale 1ns/1ps
module tb;
    localparam integer SRC_HALF = 5;     // ns
    localparam integer DST_HALF = 7;     // ns
    reg src_clk = 1'b0, dst_clk = 1'b0, src_rst_n = 1'b0, dst_rst_n = 1'b0, src_pulse = 1'b0;
    wire dst_pulse;
    integer sent = 0, got = 0, k, pass = 0, fail = 0, seed = 3, wide = 0, dst_cycles_since = 0;
    reg prev = 1'b0;

    pulse_sync dut (.src_clk(src_clk), .src_rst_n(src_rst_n), .src_pulse(src_pulse),
                    .dst_clk(dst_clk), .dst_rst_n(dst_rst_n), .dst_pulse(dst_pulse));

    always #(SRC_HALF) src_clk = ~src_clk;
    always #(DST_HALF) #0.3 dst_clk = ~dst_clk;

    // destination-side monitor: count pulses, check each is one cycle wide and not late
    always @(posedge dst_clk) begin
        if (dst_rst_n) begin
            if (dst_pulse) got = got + 1;
            if (dst_pulse && prev) wide = wide + 1;
            prev = dst_pulse;
            dst_cycles_since = dst_cycles_since + 1;
            if (got < sent && dst_cycles_since > 5) begin
                fail = fail + 1;
                if (fail <= 5) $display("CM_MISMATCH time=%0t signal=dst_pulse exp=1 got=0 (pulse lost or late)", $time);
                got = sent;
            end
        end
    end

    initial begin
        #40 src_rst_n = 1'b1; dst_rst_n = 1'b1;
        for (k = 0; k < 200; k = k + 1) begin
            @(negedge src_clk);
            src_pulse = 1'b1;
            @(negedge src_clk);
            src_pulse = 1'b0;
            sent = sent + 1;
            dst_cycles_since = 0;
            // at least 3 destination cycles between pulses, sometimes long gaps
            repeat (6 + ($random(seed) & 7)) @(negedge src_clk);
            if (got == sent) pass = pass + 1;
            else begin
                fail = fail + 1;
                if (fail <= 5) $display("CM_MISMATCH time=%0t signal=dst_pulse exp=%0d got=%0d (pulse count)", $time, sent, got);
                got = sent;
            end
        end
        if (wide != 0) begin
            fail = fail + 1;
            $display("CM_MISMATCH signal=dst_pulse exp=1-cycle got=%0d wide pulses", wide);
        end
        $display("CM_RESULT pass=%0d fail=%0d", pass, fail);
        $finish;
    end
endmodule
