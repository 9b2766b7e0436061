// Self-checking bench: an SPI mode-0 slave model (samples MOSI on rising sclk, shifts MISO out on falling
// sclk, first bit ready when cs_n falls). Checks both directions, 8 rising edges per transfer, sclk idle
// low, cs_n framing and the done pulse.
`timescale 1ns/1ps
module tb;
    localparam integer CLK_DIV = 4;
    reg clk = 1'b0, rst_n = 1'b0, start = 1'b0;
    reg [7:0] tx_byte = 8'h00;
    wire [7:0] rx_byte;
    wire done, busy, sclk, cs_n, mosi;
    reg miso = 1'b0;
    reg [7:0] slave_tx, slave_rx, sent;
    integer k, rises, pass = 0, fail = 0, seed = 13;

    spi_master dut (.clk(clk), .rst_n(rst_n), .start(start), .tx_byte(tx_byte), .rx_byte(rx_byte), .done(done),
                    .busy(busy), .sclk(sclk), .cs_n(cs_n), .mosi(mosi), .miso(miso));

    always #5 clk = ~clk;

    // watchdog: a design that never finishes a transfer fails instead of hanging the simulator
    initial begin
        #(200000);
        $display("CM_MISMATCH signal=timeout exp=finished got=stuck");
        $display("CM_RESULT pass=%0d fail=%0d", pass, fail + 1);
        $finish;
    end

    // slave model
    always @(negedge cs_n) begin rises = 0; slave_rx = 8'h00; miso = slave_tx[7]; end
    realtime mosi_changed = 0, rise_t = 0;
    always @(mosi) mosi_changed = $realtime;
    always @(posedge sclk) if (!cs_n) begin
        slave_rx = {slave_rx[6:0], mosi}; rises = rises + 1; rise_t = $realtime;
        // setup: MOSI must have been stable for at least one clk period before the rising edge
        if ($realtime - mosi_changed < 10.0) begin
            fail = fail + 1;
            if (fail <= 5) $display("CM_MISMATCH time=%0t signal=mosi exp=stable got=changed (setup before rising sclk)", $time);
        end
        // hold: MOSI must not change in the same instant as the rising edge
        #1 if (mosi_changed >= rise_t) begin
            fail = fail + 1;
            if (fail <= 5) $display("CM_MISMATCH time=%0t signal=mosi exp=stable got=changed (hold after rising sclk)", $time);
        end
    end
    always @(negedge sclk) if (!cs_n) begin slave_tx = {slave_tx[6:0], 1'b0}; miso = slave_tx[7]; end
    always @(posedge clk) if (cs_n && sclk) begin
        fail = fail + 1;
        if (fail <= 5) $display("CM_MISMATCH time=%0t signal=sclk exp=0 got=1 (idle)", $time);
    end

    initial begin
        repeat (3) @(posedge clk);
        #2 rst_n = 1'b1;
        for (k = 0; k < 30; k = k + 1) begin
            @(negedge clk);
            slave_tx = $random(seed);
            sent = slave_tx;
            tx_byte = (k == 0) ? 8'h81 : $random(seed);
            start = 1'b1;
            @(negedge clk);
            start = 1'b0;
            while (!done) @(negedge clk);
            if (rx_byte === sent && slave_rx === tx_byte && rises == 8 && cs_n === 1'b1) pass = pass + 1;
            else begin
                fail = fail + 1;
                if (fail <= 5) $display("CM_MISMATCH time=%0t signal=rx_byte exp=%h got=%h slave_rx exp=%h got=%h rises=%0d",
                                        $time, sent, rx_byte, tx_byte, slave_rx, rises);
            end
            repeat ($random(seed) & 7) @(negedge clk);
        end
        $display("CM_RESULT pass=%0d fail=%0d", pass, fail);
        $finish;
    end
endmodule
