// Multi-stage (default two-flop) synchronizer for a level signal entering the clk domain.
// Only for single-bit or quasi-static signals: each bit is synchronized independently.
module sync_2ff #(
    parameter integer WIDTH  = 1,
    parameter integer STAGES = 2
) (
    input  wire             clk,
    input  wire             rst_n,     // asynchronous, active low
    input  wire [WIDTH-1:0] d_async,
    output wire [WIDTH-1:0] q_sync
);
    (* ASYNC_REG = "TRUE" *) reg [WIDTH-1:0] sync_ff [0:STAGES-1];
    integer i;

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            for (i = 0; i < STAGES; i = i + 1)
                sync_ff[i] <= {WIDTH{1'b0}};
        end else begin
            sync_ff[0] <= d_async;
            for (i = 1; i < STAGES; i = i + 1)
                sync_ff[i] <= sync_ff[i-1];
        end
    end

    assign q_sync = sync_ff[STAGES-1];
endmodule
