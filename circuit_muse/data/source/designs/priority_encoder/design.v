// Priority encoder: idx is the index of the highest set bit of req; valid is 0 when req is all zeros.
module priority_encoder #(
    parameter integer WIDTH = 8,
    parameter integer IDXW  = 3      // $clog2(WIDTH)
) (
    input  wire [WIDTH-1:0] req,
    output reg  [IDXW-1:0]  idx,
    output wire             valid
);
    integer i;

    assign valid = |req;

    // Scan upwards; a later (higher) set bit overrides an earlier one, so the highest index wins.
    always @* begin
        idx = {IDXW{1'b0}};
        for (i = 0; i < WIDTH; i = i + 1) begin
            if (req[i])
                idx = i[IDXW-1:0];
        end
    end
endmodule
