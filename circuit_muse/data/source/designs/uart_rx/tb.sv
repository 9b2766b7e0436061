// Self-checking bench: a UART transmitter model sends bytes (random idle gaps, back-to-back frames, a
// short glitch on the idle line and frames with a broken stop bit); every good frame must produce exactly
// one data_valid with the right byte, every broken one a frame_err and no data_valid.
`timescale 1ns/1ps
module tb;
    localparam integer CLKS_PER_BIT = 16;
    reg clk = 1'b0, rst_n = 1'b0, rx = 1'b1;
    wire [7:0] data;
    wire data_valid, frame_err;
    reg [7:0] exp_q [0:255];
    reg       exp_bad [0:255];
    integer wr = 0, rd = 0, k, b, pass = 0, fail = 0, seed = 17;

    uart_rx dut (.clk(clk), .rst_n(rst_n), .rx(rx), .data(data), .data_valid(data_valid), .frame_err(frame_err));

    always #5 clk = ~clk;

    task send(input [7:0] v, input stop_ok);
        begin
            exp_q[wr] = v; exp_bad[wr] = !stop_ok; wr = wr + 1;
            #3 rx = 1'b0;                                   // start bit, off the clock edge
            repeat (CLKS_PER_BIT) @(posedge clk);
            for (b = 0; b < 8; b = b + 1) begin
                #3 rx = v[b];
                repeat (CLKS_PER_BIT) @(posedge clk);
            end
            #3 rx = stop_ok;                                // stop bit
            repeat (CLKS_PER_BIT) @(posedge clk);
            #3 rx = 1'b1;
        end
    endtask

    always @(posedge clk) begin
        if (rst_n && (data_valid || frame_err)) begin
            if (rd < wr && data_valid === !exp_bad[rd] && frame_err === exp_bad[rd] && (exp_bad[rd] || data === exp_q[rd]))
                pass = pass + 1;
            else begin
                fail = fail + 1;
                if (fail <= 5) $display("CM_MISMATCH time=%0t signal=data exp=%h/%0d got=%h valid=%b ferr=%b", $time, exp_q[rd], exp_bad[rd], data, data_valid, frame_err);
            end
            rd = rd + 1;
        end
    end

    initial begin
        repeat (4) @(posedge clk);
        rst_n = 1'b1;
        repeat (20) @(posedge clk);
        // a glitch shorter than half a bit must not start a frame
        #3 rx = 1'b0; repeat (2) @(posedge clk); #3 rx = 1'b1;
        repeat (3 * CLKS_PER_BIT) @(posedge clk);
        for (k = 0; k < 40; k = k + 1) begin
            send((k == 0) ? 8'hA5 : (k == 1) ? 8'h00 : (k == 2) ? 8'hFF : $random(seed), (k % 9) != 5);
            if (k % 9 == 5) repeat (2 * CLKS_PER_BIT) @(posedge clk);   // let the line settle after an error
            if (k % 2) repeat ($random(seed) & 31) @(posedge clk);
        end
        repeat (3 * CLKS_PER_BIT) @(posedge clk);
        if (rd != wr) begin fail = fail + 1; $display("CM_MISMATCH signal=data_valid exp=%0d frames got=%0d", wr, rd); end
        $display("CM_RESULT pass=%0d fail=%0d", pass, fail);
        $finish;
    end
endmodule
