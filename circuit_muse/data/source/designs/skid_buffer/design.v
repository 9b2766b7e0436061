// Skid buffer (pipeline register slice) for a valid/ready stream. Full throughput (one transfer per cycle)
// with s_ready driven from a register, so there is no combinational path from m_ready to s_ready.
module skid_buffer #(
    parameter integer WIDTH = 16
) (
    input  wire             clk,
    input  wire             rst_n,      // synchronous, active low
    // upstream (slave side)
    input  wire             s_valid,
    output reg              s_ready,    // 1 = the skid slot is empty
    input  wire [WIDTH-1:0] s_data,
    // downstream (master side)
    output reg              m_valid,
    input  wire             m_ready,
    output reg  [WIDTH-1:0] m_data
);
    reg  [WIDTH-1:0] skid_data;
    wire             m_free = !m_valid || m_ready;   // the output register can take a word this cycle

    always @(posedge clk) begin
        if (!rst_n) begin
            s_ready   <= 1'b1;
            m_valid   <= 1'b0;
            m_data    <= {WIDTH{1'b0}};
            skid_data <= {WIDTH{1'b0}};
        end else begin
            // skid slot
            if (s_ready) begin
                if (s_valid && !m_free) begin
                    skid_data <= s_data;       // output stalled: park the word accepted this cycle
                    s_ready   <= 1'b0;
                end
            end else if (m_free) begin
                s_ready <= 1'b1;               // the parked word moves to the output this cycle
            end
            // output register
            if (m_free) begin
                if (!s_ready) begin
                    m_valid <= 1'b1;           // the parked (older) word goes first
                    m_data  <= skid_data;
                end else begin
                    m_valid <= s_valid;
                    if (s_valid)
                        m_data <= s_data;
                end
            end
        end
    end
endmodule
