// SPI master, mode 0 (CPOL = 0, CPHA = 0), 8-bit transfers, MSB first.
// sclk period = 2 * CLK_DIV clock cycles. MOSI changes on falling sclk edges (and before the first
// rising edge); MISO is sampled on rising sclk edges. cs_n is low for the whole transfer.
module spi_master #(
    parameter integer CLK_DIV = 4,       // clk cycles per sclk half period (>= 2)
    parameter integer CW      = 2        // $clog2(CLK_DIV)
) (
    input  wire       clk,
    input  wire       rst_n,       // asynchronous, active low
    input  wire       start,
    input  wire [7:0] tx_byte,
    output reg  [7:0] rx_byte,
    output reg        done,        // one-cycle pulse: rx_byte valid
    output wire       busy,
    output reg        sclk,
    output reg        cs_n,
    output wire       mosi,
    input  wire       miso
);
    localparam [CW-1:0] HALF_LAST = CLK_DIV[CW-1:0] - 1'b1;

    reg [7:0]    shreg;
    reg [CW-1:0] div_cnt;
    reg [3:0]    edges;       // sclk edges left in this transfer (16 per byte)
    reg          active;

    assign busy = active;
    assign mosi = shreg[7];

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            shreg   <= 8'd0;
            rx_byte <= 8'd0;
            div_cnt <= {CW{1'b0}};
            edges   <= 4'd0;
            active  <= 1'b0;
            done    <= 1'b0;
            sclk    <= 1'b0;
            cs_n    <= 1'b1;
        end else begin
            done <= 1'b0;
            if (!active) begin
                if (start) begin
                    shreg   <= tx_byte;      // MSB is on mosi half a period before the first rising edge
                    active  <= 1'b1;
                    cs_n    <= 1'b0;
                    div_cnt <= {CW{1'b0}};
                    edges   <= 4'd15;
                end
            end else if (div_cnt != HALF_LAST) begin
                div_cnt <= div_cnt + 1'b1;
            end else begin
                div_cnt <= {CW{1'b0}};
                sclk    <= ~sclk;
                if (!sclk) begin
                    // rising edge: sample MISO
                    rx_byte <= {rx_byte[6:0], miso};
                end else begin
                    // falling edge: present the next bit
                    shreg <= {shreg[6:0], 1'b0};
                end
                if (edges == 4'd0) begin
                    active <= 1'b0;
                    cs_n   <= 1'b1;
                    done   <= 1'b1;
                end else begin
                    edges <= edges - 4'd1;
                end
            end
        end
    end
endmodule
