"""What the agents share: action masks and the replay buffer that stores them."""
