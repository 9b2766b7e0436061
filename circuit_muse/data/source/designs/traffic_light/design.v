// Traffic-light controller for a main road and a side road (Moore FSM with a dwell timer).
// Main road green by default; a car waiting on the side road (car_side) requests a change after the
// main green has lasted at least MIN_GREEN cycles.
module traffic_light #(
    parameter integer MIN_GREEN = 8,
    parameter integer YELLOW    = 3,
    parameter integer SIDE      = 5
) (
    input  wire       clk,
    input  wire       rst,         // synchronous, active high
    input  wire       car_side,
    output reg  [2:0] main_light,  // {red, yellow, green}
    output reg  [2:0] side_light
);
    localparam [1:0] MAIN_GREEN  = 2'd0,
                     MAIN_YELLOW = 2'd1,
                     SIDE_GREEN  = 2'd2,
                     SIDE_YELLOW = 2'd3;
    localparam [2:0] RED = 3'b100, AMBER = 3'b010, GREEN = 3'b001;
    // last timer value of each phase, sized to the 8-bit timer
    localparam [7:0] GREEN_MIN_LAST = MIN_GREEN[7:0] - 8'd1;
    localparam [7:0] YELLOW_LAST    = YELLOW[7:0] - 8'd1;
    localparam [7:0] SIDE_LAST      = SIDE[7:0] - 8'd1;

    reg [1:0] state;
    reg [7:0] timer;      // cycles spent in the current state

    always @(posedge clk) begin
        if (rst) begin
            state <= MAIN_GREEN;
            timer <= 8'd0;
        end else begin
            timer <= timer + 8'd1;
            case (state)
                MAIN_GREEN:
                    if (car_side && timer >= GREEN_MIN_LAST) begin
                        state <= MAIN_YELLOW;
                        timer <= 8'd0;
                    end else if (timer == 8'd255) begin
                        timer <= timer;                // saturate while idling
                    end
                MAIN_YELLOW:
                    if (timer == YELLOW_LAST) begin
                        state <= SIDE_GREEN;
                        timer <= 8'd0;
                    end
                SIDE_GREEN:
                    if (timer == SIDE_LAST) begin
                        state <= SIDE_YELLOW;
                        timer <= 8'd0;
                    end
                default:   // SIDE_YELLOW
                    if (timer == YELLOW_LAST) begin
                        state <= MAIN_GREEN;
                        timer <= 8'd0;
                    end
            endcase
        end
    end

    always @* begin
        case (state)
            MAIN_GREEN:  begin main_light = GREEN; side_light = RED;   end
            MAIN_YELLOW: begin main_light = AMBER; side_light = RED;   end
            SIDE_GREEN:  begin main_light = RED;   side_light = GREEN; end
            default:     begin main_light = RED;   side_light = AMBER; end
        endcase
    end
endmodule
