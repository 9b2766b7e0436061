// Mealy FSM that detects the serial pattern 110 (overlapping). match is asserted combinationally in the
// cycle in which the final 0 is on din (the state has seen 11).
module seq_detector_mealy (
    input  wire clk,
    input  wire rst,      // asynchronous, active high
    input  wire din,
    output reg  match
);
    localparam [1:0] S0 = 2'd0,   // no progress
                     S1 = 2'd1,   // seen 1
                     S2 = 2'd2;   // seen 11

    reg [1:0] state, next;

    always @(posedge clk or posedge rst) begin
        if (rst)
            state <= S0;
        else
            state <= next;
    end

    always @* begin
        next  = S0;
        match = 1'b0;
        case (state)
            S0: next = din ? S1 : S0;
            S1: next = din ? S2 : S0;
            S2: begin
                if (din) begin
                    next = S2;          // 111...: still have the last two ones
                end else begin
                    next  = S0;
                    match = 1'b1;       // 110 complete
                end
            end
            default: next = S0;
        endcase
    end
endmodule
