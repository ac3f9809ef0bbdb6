-- root: packages
SELECT * FROM pci_devices;
SELECT pci_slot, vendor_id, model_id, driver FROM pci_devices WHERE vendor_id = '0x8086';
