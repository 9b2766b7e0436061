// UART transmitter, 8N1: start bit (0), 8 data bits LSB first, stop bit (1). CLKS_PER_BIT clock cycles
// per bit. tx_start is accepted when busy is 0; tx idles high.
module uart_tx #(
    parameter integer CLKS_PER_BIT = 16,
    parameter integer CW           = 4     // $clog2(CLKS_PER_BIT)
) (
    input  wire       clk,
    input  wire       rst_n,       // synchronous, active low
    input  wire       tx_start,
    input  wire [7:0] tx_data,
    output reg        tx,
    output wire       busy
);
    localparam [CW-1:0] BIT_LAST = CLKS_PER_BIT[CW-1:0] - 1'b1;
    localparam [1:0] S_IDLE = 2'd0, S_START = 2'd1, S_DATA = 2'd2, S_STOP = 2'd3;

    reg [1:0]    state;
    reg [CW-1:0] baud_cnt;
    reg [2:0]    bit_idx;
    reg [7:0]    shreg;

    wire bit_done = (baud_cnt == BIT_LAST);

    assign busy = (state != S_IDLE);

    always @(posedge clk) begin
        if (!rst_n) begin
            state    <= S_IDLE;
            baud_cnt <= {CW{1'b0}};
            bit_idx  <= 3'd0;
            shreg    <= 8'd0;
            tx       <= 1'b1;
        end else begin
            baud_cnt <= (state == S_IDLE || bit_done) ? {CW{1'b0}} : baud_cnt + 1'b1;
            case (state)
                S_IDLE: begin
                    tx <= 1'b1;
                    if (tx_start) begin
                        shreg <= tx_data;
                        tx    <= 1'b0;           // start bit begins now
                        state <= S_START;
                    end
                end
                S_START: if (bit_done) begin
                    tx      <= shreg[0];
                    shreg   <= {1'b0, shreg[7:1]};
                    bit_idx <= 3'd0;
                    state   <= S_DATA;
                end
                S_DATA: if (bit_done) begin
                    if (bit_idx == 3'd7) begin
                        tx    <= 1'b1;           // stop bit
                        state <= S_STOP;
                    end else begin
                        tx      <= shreg[0];
                        shreg   <= {1'b0, shreg[7:1]};
                        bit_idx <= bit_idx + 3'd1;
                    end
                end
                default: if (bit_done) state <= S_IDLE;   // S_STOP
            endcase
        end
    end
endmodule
