// Self-checking bench: random serial stream; the Mealy output is checked just before each rising edge,
// while the current bit is on din, against a model that keeps the last two accepted bits.
`timescale 1ns/1ps
module tb;
    reg clk = 1'b0, rst = 1'b1, din = 1'b0;
    wire match;
    integer cyc, pass = 0, fail = 0, seed = 7, hist_n = 0;
    reg [1:0] hist = 2'b00;
    reg exp_match;

    seq_detector_mealy dut (.clk(clk), .rst(rst), .din(din), .match(match));

    always #5 clk = ~clk;

    initial begin
        #12 rst = 1'b0;
        for (cyc = 0; cyc < 2000; cyc = cyc + 1) begin
            @(negedge clk);
            // runs of ones are common so 110 and 1110 both occur often
            din = ($random(seed) % 4) != 0 ? 1'b1 : 1'b0;
            if (cyc % 97 == 50) begin
                rst = 1'b1; #1 rst = 1'b0;   // asynchronous reset pulse between edges
                hist_n = 0;
            end
            #3;
            exp_match = (hist_n >= 2) && (hist == 2'b11) && !din;
            if (match === exp_match) pass = pass + 1;
            else begin
                fail = fail + 1;
                if (fail <= 5) $display("CM_MISMATCH cycle=%0d signal=match exp=%b got=%b", cyc, exp_match, match);
            end
            @(posedge clk);
            hist = {hist[0], din};
            hist_n = hist_n + 1;
        end
        $display("CM_RESULT pass=%0d fail=%0d", pass, fail);
        $finish;
    end
endmodule
