"""What the relay sees and routes: session codes' public half and the control envelope."""
