"""storeplane: a control plane that provisions e-commerce stores on Kubernetes."""
