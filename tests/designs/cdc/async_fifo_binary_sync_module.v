// Same binary-pointer FIFO, with the two-flop synchronizers in a submodule.
module sync2 #(parameter W = 4) (input wire clk, input wire rst_n, input wire [W-1:0] d, output reg [W-1:0] q);
    reg [W-1:0] meta;
    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            meta <= {W{1'b0}};
            q <= {W{1'b0}};
        end else begin
            meta <= d;
            q <= meta;
        end
    end
endmodule

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
    wire [AW:0] wq2_rptr;
    wire [AW:0] rq2_wptr;

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

    sync2 #(.W(AW+1)) u_sync_r2w (.clk(wclk), .rst_n(wrst_n), .d(rptr), .q(wq2_rptr));
    sync2 #(.W(AW+1)) u_sync_w2r (.clk(rclk), .rst_n(rrst_n), .d(wptr), .q(rq2_wptr));
endmodule
