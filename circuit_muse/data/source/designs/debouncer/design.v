// Push-button debouncer: two-flop synchronizer, then the output follows the synchronized input only after
// it has been different from the output for STABLE consecutive clock cycles. rise pulses for one cycle
// when the debounced output goes 0 -> 1.
module debouncer #(
    parameter integer STABLE = 16,
    parameter integer CW     = 4      // $clog2(STABLE)
) (
    input  wire clk,
    input  wire rst_n,      // synchronous, active low
    input  wire btn_in,     // raw, bouncing, asynchronous
    output reg  btn_out,
    output reg  rise
);
    localparam [CW-1:0] LAST = STABLE[CW-1:0] - 1'b1;

    (* ASYNC_REG = "TRUE" *) reg [1:0] sync_q;
    reg [CW-1:0] count;

    wire btn_s = sync_q[1];

    always @(posedge clk) begin
        if (!rst_n) begin
            sync_q  <= 2'b00;
            count   <= {CW{1'b0}};
            btn_out <= 1'b0;
            rise    <= 1'b0;
        end else begin
            sync_q <= {sync_q[0], btn_in};
            rise   <= 1'b0;
            if (btn_s == btn_out) begin
                count <= {CW{1'b0}};            // no change pending
            end else if (count == LAST) begin
                count   <= {CW{1'b0}};
                btn_out <= btn_s;               // stable long enough: accept
                rise    <= btn_s;
            end else begin
                count <= count + 1'b1;
            end
        end
    end
endmodule
