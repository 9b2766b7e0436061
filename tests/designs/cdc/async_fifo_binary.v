// An async FIFO that passes its BINARY pointers through two-flop synchronizers. Zero-delay simulation
// cannot tell it from the Gray version; on silicon a pointer that changes several bits at once can be
// sampled half-updated (e.g. 0111 -> 1000 seen as 1111), so the far side sees a wrong fill level.
module async_fifo #(
    parameter WIDTH = 8,
    parameter DEPTH = 16
) (
    input  wire             wclk,
    input  wire             wrst_n,
    input  wire             wr_en,
    input  wire [WIDTH-1:0] wr_data,
    output reg              wfull,
    input  wire             rclk,
    input  wire             rrst_n,
    input  wire             rd_en,
    output wire [WIDTH-1:0] rd_data,
    output reg              rempty
);
    localparam AW = $clog2(DEPTH);

    reg [WIDTH-1:0] mem [0:DEPTH-1];
    reg [AW:0] wptr;
    reg [AW:0] rptr;
    reg [AW:0] wq1_rptr;
    reg [AW:0] wq2_rptr;
    reg [AW:0] rq1_wptr;
    reg [AW:0] rq2_wptr;

    wire [AW:0] wptr_next = wptr + {{AW{1'b0}}, (wr_en & ~wfull)};
    wire [AW:0] rptr_next = rptr + {{AW{1'b0}}, (rd_en & ~rempty)};
    wire wfull_val = (wptr_next[AW-1:0] == wq2_rptr[AW-1:0]) && (wptr_next[AW] != wq2_rptr[AW]);
    wire rempty_val = (rptr_next == rq2_wptr);

    always @(posedge wclk or negedge wrst_n) begin
        if (!wrst_n) begin
            wptr <= {(AW+1){1'b0}};
            wfull <= 1'b0;
        end else begin
            wptr <= wptr_next;
            wfull <= wfull_val;
        end
    end

    always @(posedge wclk) begin
        if (wr_en && !wfull)
            mem[wptr[AW-1:0]] <= wr_data;
    end

    always @(posedge rclk or negedge rrst_n) begin
        if (!rrst_n) begin
            rptr <= {(AW+1){1'b0}};
            rempty <= 1'b1;
        end else begin
            rptr <= rptr_next;
            rempty <= rempty_val;
        end
    end

    assign rd_data = mem[rptr[AW-1:0]];

    always @(posedge wclk or negedge wrst_n) begin
        if (!wrst_n) begin
            wq1_rptr <= {(AW+1){1'b0}};
            wq2_rptr <= {(AW+1){1'b0}};
        end else begin
            wq1_rptr <= rptr;
            wq2_rptr <= wq1_rptr;
        end
    end

    always @(posedge rclk or negedge rrst_n) begin
        if (!rrst_n) begin
            rq1_wptr <= {(AW+1){1'b0}};
            rq2_wptr <= {(AW+1){1'b0}};
        end else begin
            rq1_wptr <= wptr;
            rq2_wptr <= rq1_wptr;
        end
    end
endmodule
