// Self-checking bench: a UART receiver model samples tx in the middle of each bit and checks start bit,
// 8 data bits (LSB first) and stop bit against the bytes handed to the transmitter; frames are sent
// back-to-back and with idle gaps. tx must idle high and busy must cover the whole frame.
`timescale 1ns/1ps
module tb;
    localparam integer CLKS_PER_BIT = 16;
    reg clk = 1'b0, rst_n = 1'b0, tx_start = 1'b0;
    reg [7:0] tx_data = 8'h00;
    wire tx, busy;
    reg [7:0] queue [0:255];
    integer wr = 0, rd = 0, k, b, pass = 0, fail = 0, seed = 21;
    reg [7:0] byte_rx;
    reg bad;

    uart_tx dut (.clk(clk), .rst_n(rst_n), .tx_start(tx_start), .tx_data(tx_data), .tx(tx), .busy(busy));

    always #5 clk = ~clk;

    // watchdog: a design that never finishes a transfer fails instead of hanging the simulator
    initial begin
        #(400000);
        $display("CM_MISMATCH signal=timeout exp=finished got=stuck");
        $display("CM_RESULT pass=%0d fail=%0d", pass, fail + 1);
        $finish;
    end

    // receiver model
    initial begin
        forever begin
            @(negedge tx);
            if (rst_n) begin
                bad = 0;
                repeat (CLKS_PER_BIT / 2) @(posedge clk);
                if (tx !== 1'b0) bad = 1;                       // start bit
                for (b = 0; b < 8; b = b + 1) begin
                    repeat (CLKS_PER_BIT) @(posedge clk);
                    byte_rx[b] = tx;
                end
                repeat (CLKS_PER_BIT) @(posedge clk);
                if (tx !== 1'b1) bad = 1;                       // stop bit
                if (!bad && rd < wr && byte_rx === queue[rd]) pass = pass + 1;
                else begin
                    fail = fail + 1;
                    if (fail <= 5) $display("CM_MISMATCH time=%0t signal=tx exp=%h got=%h framing_error=%0d", $time, queue[rd], byte_rx, bad);
                end
                rd = rd + 1;
            end
        end
    end

    // idle line and busy checks while no frame is pending
    always @(posedge clk) begin
        if (rst_n && !busy && !tx_start && tx !== 1'b1) begin
            fail = fail + 1;
            if (fail <= 5) $display("CM_MISMATCH time=%0t signal=tx exp=1 got=%b (idle line)", $time, tx);
        end
    end

    initial begin
        repeat (3) @(posedge clk);
        @(negedge clk) rst_n = 1'b1;
        for (k = 0; k < 40; k = k + 1) begin
            @(negedge clk);
            while (busy) @(negedge clk);
            tx_data = (k == 0) ? 8'h55 : (k == 1) ? 8'h00 : (k == 2) ? 8'hFF : $random(seed);
            queue[wr] = tx_data;
            wr = wr + 1;
            tx_start = 1'b1;
            @(negedge clk);
            tx_start = 1'b0;
            tx_data = ~tx_data;                                   // data may change after the start
            if (!busy) begin fail = fail + 1; $display("CM_MISMATCH signal=busy exp=1 got=0"); end
            if (k % 3 == 0) repeat ($random(seed) & 31) @(negedge clk);
        end
        while (busy) @(negedge clk);
        repeat (CLKS_PER_BIT * 2) @(negedge clk);
        if (rd != wr) begin fail = fail + 1; $display("CM_MISMATCH signal=tx exp=%0d frames got=%0d", wr, rd); end
        $display("CM_RESULT pass=%0d fail=%0d", pass, fail);
        $finish;
    end
endmodule
