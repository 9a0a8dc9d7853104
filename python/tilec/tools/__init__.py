"""`triton.tools` names: tensor_descriptor.TensorDescriptor."""
