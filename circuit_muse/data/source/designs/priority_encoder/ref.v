module priority_encoder #(
    parameter WIDTH = 8,
    parameter IDXW = 3
) (
    input  [WIDTH-1:0] req,
    output reg [IDXW-1:0] idx,
    output reg valid
);
    integer k;
    reg done;
    always @* begin
        idx = 0;
        valid = 0;
        done = 0;
        for (k = WIDTH - 1; k >= 0; k = k - 1) begin
            if (!done && req[k]) begin
                idx = k;
                valid = 1;
                done = 1;
            end
        end
    end
endmodule
