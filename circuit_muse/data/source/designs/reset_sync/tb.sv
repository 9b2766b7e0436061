// Self-checking bench: arst_n is asserted and released at random offsets from the clock edge.
// Assertion must reach rst_n_sync immediately; release must take exactly STAGES rising edges.
`timescale 1ns/1ps
module tb;
    localparam integer STAGES = 2;
    reg clk = 1'b0, arst_n = 1'b0;
    wire rst_n_sync;
    integer k, e, pass = 0, fail = 0, seed = 5;

    reset_sync dut (.clk(clk), .arst_n(arst_n), .rst_n_sync(rst_n_sync));

    always #5 clk = ~clk;

    task check(input exp, input [8*24-1:0] what);
        begin
            if (rst_n_sync === exp) pass = pass + 1;
            else begin
                fail = fail + 1;
                if (fail <= 5) $display("CM_MISMATCH time=%0t signal=rst_n_sync exp=%b got=%b (%0s)", $time, exp, rst_n_sync, what);
            end
        end
    endtask

    initial begin
        #23;
        for (k = 0; k < 40; k = k + 1) begin
            // release at a random point in the cycle
            #(1 + ($random(seed) & 7));
            arst_n = 1'b1;
            #0.1 check(1'b0, "held right after release");
            for (e = 1; e <= STAGES + 2; e = e + 1) begin
                @(posedge clk); #1;
                check(e >= STAGES, "synchronous release");
            end
            repeat ($random(seed) & 3) @(posedge clk);
            // assert at a random point: must propagate without a clock edge
            #(1 + ($random(seed) & 7));
            arst_n = 1'b0;
            #0.5 check(1'b0, "asynchronous assertion");
            @(posedge clk); #1 check(1'b0, "held in reset");
        end
        $display("CM_RESULT pass=%0d fail=%0d", pass, fail);
        $finish;
    end
endmodule
