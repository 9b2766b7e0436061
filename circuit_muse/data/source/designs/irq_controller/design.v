// Interrupt controller: N level-sensitive sources latched into a pending register, a mask register,
// and a fixed-priority encoder (source 0 highest). Software clears a pending bit through clr (one-hot).
module irq_controller #(
    parameter integer N  = 8,
    parameter integer IW = 3         // $clog2(N)
) (
    input  wire          clk,
    input  wire          rst_n,      // synchronous, active low
    input  wire [N-1:0]  irq_in,     // interrupt sources (sampled every cycle)
    input  wire          mask_we,
    input  wire [N-1:0]  mask_in,    // 1 = enabled
    input  wire [N-1:0]  clr,        // 1 = clear that pending bit
    output reg  [N-1:0]  pending,
    output wire          irq_out,
    output reg  [IW-1:0] irq_id
);
    reg  [N-1:0] mask;
    wire [N-1:0] active = pending & mask;
    integer i;

    always @(posedge clk) begin
        if (!rst_n) begin
            pending <= {N{1'b0}};
            mask    <= {N{1'b0}};
        end else begin
            // a new request wins over a clear in the same cycle
            pending <= (pending & ~clr) | irq_in;
            if (mask_we)
                mask <= mask_in;
        end
    end

    assign irq_out = |active;

    always @* begin
        irq_id = {IW{1'b0}};
        for (i = N - 1; i >= 0; i = i - 1)
            if (active[i])
                irq_id = i[IW-1:0];
    end
endmodule
