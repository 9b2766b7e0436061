// Moore FSM that detects the serial pattern 1011 (overlapping). detect is 1 for one cycle in the state
// after the last bit of the pattern was received; overlaps are allowed (1011011 gives two detections).
module seq_detector_moore (
    input  wire clk,
    input  wire rst_n,     // synchronous, active low
    input  wire din,
    output wire detect
);
    localparam [2:0] S_IDLE = 3'd0,   // nothing useful seen
                     S_1    = 3'd1,   // seen 1
                     S_10   = 3'd2,   // seen 10
                     S_101  = 3'd3,   // seen 101
                     S_1011 = 3'd4;   // seen 1011: output state

    reg [2:0] state, next;

    always @(posedge clk) begin
        if (!rst_n)
            state <= S_IDLE;
        else
            state <= next;
    end

    always @* begin
        case (state)
            S_IDLE:  next = din ? S_1    : S_IDLE;
            S_1:     next = din ? S_1    : S_10;
            S_10:    next = din ? S_101  : S_IDLE;
            S_101:   next = din ? S_1011 : S_10;
            S_1011:  next = din ? S_1    : S_10;
            default: next = S_IDLE;
        endcase
    end

    assign detect = (state == S_1011);
endmodule
