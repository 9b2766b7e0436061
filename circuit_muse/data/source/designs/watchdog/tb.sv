// Self-checking bench: kicks arrive at random intervals, some longer than TIMEOUT, with enable dropping
// now and then. The expected bark comes from a cycle-level model of the idle count.
`timescale 1ns/1ps
module tb;
    localparam integer TIMEOUT = 20;
    reg clk = 1'b0, rst_n = 1'b0, enable = 1'b0, kick = 1'b0;
    wire bark;
    integer cyc, idle = 0, pass = 0, fail = 0, seed = 11, gap = 0, exp_bark;

    watchdog dut (.clk(clk), .rst_n(rst_n), .enable(enable), .kick(kick), .bark(bark));

    always #5 clk = ~clk;

    initial begin
        for (cyc = 0; cyc < 3000; cyc = cyc + 1) begin
            @(negedge clk);
            rst_n  = (cyc >= 2) && (cyc % 701 != 400);
            // gaps between kicks: mostly a bit shorter or longer than TIMEOUT
            if (gap == 0) begin
                kick = 1'b1;
                gap  = TIMEOUT - 3 + ($random(seed) & 7);
                if (($random(seed) & 3) == 0) gap = gap + TIMEOUT;
            end else begin
                kick = 1'b0;
                gap  = gap - 1;
            end
            enable = ($random(seed) % 64) != 0;
            #1;
            exp_bark = (idle >= TIMEOUT);
            if (cyc >= 3) begin
                if (bark === exp_bark[0]) pass = pass + 1;
                else begin
                    fail = fail + 1;
                    if (fail <= 5) $display("CM_MISMATCH cycle=%0d signal=bark exp=%0d got=%b", cyc, exp_bark, bark);
                end
            end
            @(posedge clk);
            if (!rst_n || !enable || kick) idle = 0;
            else if (idle < TIMEOUT) idle = idle + 1;
        end
        $display("CM_RESULT pass=%0d fail=%0d", pass, fail);
        $finish;
    end
endmodule
