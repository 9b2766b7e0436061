module sync_2ff #(
    parameter WIDTH = 1,
    parameter STAGES = 2
) (
    input clk, rst_n,
    input [WIDTH-1:0] d_async,
    output [WIDTH-1:0] q_sync
);
    reg [WIDTH*STAGES-1:0] pipe;
    always @(posedge clk or negedge rst_n)
        if (!rst_n) pipe <= 0;
        else pipe <= {pipe[WIDTH*(STAGES-1)-1:0], d_async};
    assign q_sync = pipe[WIDTH*STAGES-1 -: WIDTH];
endmodule
