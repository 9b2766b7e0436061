module traffic_light #(
    parameter MIN_GREEN = 8,
    parameter YELLOW = 3,
    parameter SIDE = 5
) (
    input clk, rst, car_side,
    output [2:0] main_light, side_light
);
    integer st, t;
    always @(posedge clk) begin
        if (rst) begin st = 0; t = 0; end
        else begin
            t = t + 1;
            if (st == 0) begin
                if (car_side && t >= MIN_GREEN) begin st = 1; t = 0; end
                else if (t > 255) t = 255;
            end else if (st == 1 && t == YELLOW) begin st = 2; t = 0; end
            else if (st == 2 && t == SIDE) begin st = 3; t = 0; end
            else if (st == 3 && t == YELLOW) begin st = 0; t = 0; end
        end
    end
    assign main_light = st == 0 ? 3'b001 : st == 1 ? 3'b010 : 3'b100;
    assign side_light = st == 2 ? 3'b001 : st == 3 ? 3'b010 : 3'b100;
endmodule
