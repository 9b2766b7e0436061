// UART receiver, 8N1, with a two-flop input synchronizer and mid-bit sampling.
// data_valid pulses for one cycle with the received byte; frame_err pulses instead when the stop bit is 0.
module uart_rx #(
    parameter integer CLKS_PER_BIT = 16,
    parameter integer CW           = 4     // $clog2(CLKS_PER_BIT)
) (
    input  wire       clk,
    input  wire       rst_n,      // synchronous, active low
    input  wire       rx,         // asynchronous serial input, idles high
    output reg  [7:0] data,
    output reg        data_valid,
    output reg        frame_err
);
    localparam [CW-1:0] BIT_LAST = CLKS_PER_BIT[CW-1:0] - 1'b1;
    localparam [CW-1:0] HALF     = BIT_LAST >> 1;
    localparam [1:0] S_IDLE = 2'd0, S_START = 2'd1, S_DATA = 2'd2, S_STOP = 2'd3;

    (* ASYNC_REG = "TRUE" *) reg [1:0] rx_sync;
    wire rx_s = rx_sync[1];

    reg [1:0]    state;
    reg [CW-1:0] cnt;
    reg [2:0]    bit_idx;
    reg [7:0]    shreg;

    always @(posedge clk) begin
        if (!rst_n) begin
            rx_sync    <= 2'b11;
            state      <= S_IDLE;
            cnt        <= {CW{1'b0}};
            bit_idx    <= 3'd0;
            shreg      <= 8'd0;
            data       <= 8'd0;
            data_valid <= 1'b0;
            frame_err  <= 1'b0;
        end else begin
            rx_sync    <= {rx_sync[0], rx};
            data_valid <= 1'b0;
            frame_err  <= 1'b0;
            case (state)
                S_IDLE: begin
                    cnt <= {CW{1'b0}};
                    if (!rx_s)
                        state <= S_START;             // falling edge: start bit begins
                end
                S_START: begin
                    if (cnt == HALF) begin            // middle of the start bit
                        cnt     <= {CW{1'b0}};
                        bit_idx <= 3'd0;
                        state   <= rx_s ? S_IDLE : S_DATA;   // a glitch, not a start bit
                    end else begin
                        cnt <= cnt + 1'b1;
                    end
                end
                S_DATA: begin
                    if (cnt == BIT_LAST) begin        // middle of a data bit
                        cnt   <= {CW{1'b0}};
                        shreg <= {rx_s, shreg[7:1]};  // LSB first
                        if (bit_idx == 3'd7)
                            state <= S_STOP;
                        else
                            bit_idx <= bit_idx + 3'd1;
                    end else begin
                        cnt <= cnt + 1'b1;
                    end
                end
                default: begin                        // S_STOP
                    if (cnt == BIT_LAST) begin        // middle of the stop bit
                        cnt   <= {CW{1'b0}};
                        state <= S_IDLE;
                        if (rx_s) begin
                            data       <= shreg;
                            data_valid <= 1'b1;
                        end else begin
                            frame_err  <= 1'b1;
                        end
                    end else begin
                        cnt <= cnt + 1'b1;
                    end
                end
            endcase
        end
    end
endmodule
